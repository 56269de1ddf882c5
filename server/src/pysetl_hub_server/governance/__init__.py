"""governance domain: who may do what (roles, invitations, organizations and teams), deletion,
and what admins do (quarantine, prohibited names, reserved prefixes)."""
