"""Training priors."""
