"""The app's screens: lesson list, lesson, exercise, and modal dialogs."""
