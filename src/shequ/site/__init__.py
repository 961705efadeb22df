"""The community website: pages (template and parser), the weekly audit's rules, and its
reports and command line."""
