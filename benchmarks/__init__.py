"""Side-by-side benchmarks of chainrule against PyTorch CPU (and scikit-learn); run ``python -m benchmarks``."""
