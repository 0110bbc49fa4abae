"""Shared pieces every package needs: settings and the typed errors users can cause."""
