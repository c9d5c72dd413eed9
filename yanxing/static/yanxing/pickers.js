// Division pickers: a plain code input without JavaScript; a searchable select with it.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("input[data-division-picker]").forEach(function (input) {
    var url = input.dataset.divisionPicker;
    var maxLevel = input.dataset.maxLevel || "5";
    var options = input.value ? [{ value: input.value, text: input.dataset.label || input.value }] : [];
    new TomSelect(input, {
      maxItems: 1,
      valueField: "value",
      labelField: "text",
      searchField: ["text", "value"],
      options: options,
      create: false,
      load: function (query, callback) {
        fetch(url + "?max_level=" + maxLevel + "&q=" + encodeURIComponent(query))
          .then(function (r) { return r.json(); })
          .then(function (data) { callback(data.results); })
          .catch(function () { callback(); });
      },
    });
  });
});
