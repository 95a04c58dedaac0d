"""The Flight protocol layer: translates Flight RPCs into gateway calls and errors into statuses."""
