"""Helpers for the local test bed: Docker "VMs", the wheelhouse, and the Airflow REST API."""
