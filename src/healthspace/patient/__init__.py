"""My health: the patient services (labs, medicines, reports, ask) over one person's record."""
