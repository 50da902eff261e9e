"""The HA profile for many bots on many hosts: configs, the bot inventory and its renderer, and the secrets generator (docs/scale-out.md)."""
