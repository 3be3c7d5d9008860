"""Preparing the machine the lab runs on: Docker Engine that can run kind nodes."""
