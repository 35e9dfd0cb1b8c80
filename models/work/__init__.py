"""Work: maintenance plans, visits, work orders, crews and contracts."""
