"""The browser front: ``tutor serve`` serves the app to browsers (a class signs in
with tokens, each learner in a workspace of their own), and JupyterHub launches it
through jupyter-server-proxy. It starts the app as a process per learner and never
imports it; learner rules stay in the app over :mod:`tutor.session`."""
