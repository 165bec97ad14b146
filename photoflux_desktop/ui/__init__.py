"""Qt widgets and view models. Holds no business logic; talks to the engine by requests."""
