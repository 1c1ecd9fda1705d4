"""Network blocks shared by several model families (the harmonic frequency-pooling U-Net)."""
