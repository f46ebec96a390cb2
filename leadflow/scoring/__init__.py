"""Conversion scoring trained on the CRM's own history (docs/models.md): the features known
at routing time and the label (`features`), the metrics (`metrics`), training and using a
model (`model`, scikit-learn), and scoring each lead as it settles (`live`)."""
