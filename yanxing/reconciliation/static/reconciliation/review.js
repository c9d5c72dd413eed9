// The review queue's "select all" checkbox: ticks every pair checkbox of its table.
document.addEventListener("change", (event) => {
  const box = event.target;
  if (!(box instanceof HTMLInputElement) || !box.hasAttribute("data-select-all")) return;
  const table = box.closest("table");
  if (!table) return;
  table.querySelectorAll('input[type="checkbox"][name="pairs"]').forEach((item) => {
    item.checked = box.checked;
  });
});
