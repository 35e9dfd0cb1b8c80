"""Quality: reliability of models, batches and suppliers, quality alerts and issues."""
