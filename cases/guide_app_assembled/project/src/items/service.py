"""Item business logic: listed in the guide's Project Structure, never shown (its router queries directly)."""
