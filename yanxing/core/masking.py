"""Display masking of personal data: 张*, 1408**********123X, 138****5678."""


def mask_name(name: str) -> str:
    if not name:
        return ""
    return name[0] + "*" * max(len(name) - 1, 1)


def mask_id_number(id_number: str) -> str:
    if not id_number:
        return ""
    if len(id_number) <= 8:
        return "*" * len(id_number)
    return id_number[:4] + "*" * (len(id_number) - 8) + id_number[-4:]


def mask_phone(phone: str) -> str:
    if not phone:
        return ""
    if len(phone) < 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
