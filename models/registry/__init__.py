"""Registry: organisations, manufacturers, suppliers, sites, unit models, units and components."""
