"""TinyTorch: an educational deep-learning framework on NumPy. This package holds its data layer."""
