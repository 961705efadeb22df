"""What lessons and exercises import: the datasets, the residents data contract, data-quality
checks (quality) and network records (netops). Never imports the generators (`synth`)."""
