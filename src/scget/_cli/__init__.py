"""What the command line runs beside training: the demo and its report."""
