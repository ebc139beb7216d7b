"""Impact of a list of projects: projected pavement condition, gaps closed, lights repaired."""
