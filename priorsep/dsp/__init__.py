"""Signal processing shared by separators and evaluation: the STFT, overlap-add over chunks (resumable),
mask resynthesis."""
