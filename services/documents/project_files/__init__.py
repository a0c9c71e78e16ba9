"""The project-file aggregate: files staff put on a project for its customer to download."""
