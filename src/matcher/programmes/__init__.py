"""The overseas programmes: their cited rules, and eligibility against them."""
