"""Reference data the user provides (CMS fee schedule RVU files)."""
