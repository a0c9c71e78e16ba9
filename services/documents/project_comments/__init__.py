"""The project-comment aggregate: the conversation on a project between the team and the customer."""
