"""Separation algorithms."""
