"""First run: the one-time setup link `tunedeck serve` prints, and the setup page's steps."""
