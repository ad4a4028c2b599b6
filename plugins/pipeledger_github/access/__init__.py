"""Who can do what and what guards deploys on GitHub: each collection's snapshots of an
organization and its repositories, and what they remember between collections."""
