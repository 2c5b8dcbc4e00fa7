"""Signals other apps connect to; contacts never imports those apps.

``contact_addresses_added``
    Sent once per change, after the transaction that added one or more
    addresses to a contact commits, whichever path added them (the contact
    form, a CSV import, the Django admin or a direct service call). Keyword
    arguments: ``account_id``, ``contact_id`` and ``addresses``, a list of
    the normalised addresses that were new to the contact. ``mailsync``
    listens to fetch the past mail exchanged with those addresses. The
    receiver runs outside any transaction; it should enqueue work and return.

``contact_deleting``
    Sent inside the deleting transaction, just before the contact and its
    addresses are removed. Keyword arguments: ``account_id``,
    ``contact_id``, ``addresses`` (normalised) and ``delete_email``, true
    when the person chose "also delete their email". ``conversations``
    listens to delete the contact's stored mail when ``delete_email`` is
    true, and otherwise to keep it, unlinked from the contact. A receiver
    that raises undoes the deletion.
"""

from django.dispatch import Signal

contact_addresses_added = Signal()
contact_deleting = Signal()
