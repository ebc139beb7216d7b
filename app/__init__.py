"""Groundwork: infrastructure sales-tax programs from condition data to the ballot list."""
