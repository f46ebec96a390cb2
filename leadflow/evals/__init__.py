"""Eval suite for prompt engineers: run the real graph over labelled datasets
(evals/datasets/*.jsonl), score each agent, write reports, compare runs."""
