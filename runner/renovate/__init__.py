"""Running Renovate for one repository: the container, its environment, and reading what it says back."""
