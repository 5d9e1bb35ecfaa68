"""Career transitions and skill gaps."""
