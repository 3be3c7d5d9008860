"""Deploying the pipeline: its manifests, checked against the API schemas before applying."""
