"""Fleet quality analytics: reliability figures, batch alerts and the field verification of corrective actions."""
