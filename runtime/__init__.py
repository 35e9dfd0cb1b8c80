"""Process infrastructure every service shares: settings, logging, probes, signals, operator errors."""
