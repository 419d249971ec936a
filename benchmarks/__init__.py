"""Side-by-side benchmarks of chainrule against PyTorch CPU and scikit-learn.

Run ``python -m benchmarks``.
"""
