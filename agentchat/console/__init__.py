"""The web console for agents and managers: static pages served by the service itself at "/"."""
