"""Evaluation: SI-SDR / BSSEval metrics, oracle baselines and the cross-likelihood diagnostic."""
