"""What people read: HTML pages and tables, the coordinators' report (render + the notebook
queue) and each worker's feedback page."""
