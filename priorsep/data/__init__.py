"""Datasets: toy oscillators, folders of solo stems, audio I/O."""
