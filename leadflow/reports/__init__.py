"""Reports over what happened after routing, written as files (`leadflow report weekly`):
`weekly` gathers the numbers with bounded queries, `thresholds` tests the tier cuts against
conversions, `calibration` compares a model's scores with outcomes, `svg` draws the plots and
`render` writes the Markdown and the self-contained HTML."""
