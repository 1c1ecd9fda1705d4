"""Source priors: the interface, flow priors, checkpoints and prior sets."""
