"""SearchCustomer on a driver connection (rawdb.RawConnections), without an ORM session.

The same search as service.search_customers (its patterns, newest first, the capped Total), each customer as
view_customers and CustomerOut show it, with the session check: one statement on PostgreSQL, one hop on SQLite.
The database writes the page's JSON, as for GetChats (chats/fastpath.py): through the ORM session, its four
queries and pydantic for 50 customers, a call cost the worker 3.6 ms of CPU on PostgreSQL (bench/).
"""

from agentchat import clock, rawdb
from agentchat.chats import rules
from agentchat.contract import Paging
from agentchat.customers.service import search_patterns
from agentchat.rawdb import Raw, SqliteInThread
from agentchat.security import SESSION_COLUMNS, PresentedSession, session_invalid

# The customer's chat that is not closed (their TagIDs are its tags), compiled once (chats/rules.py).
_ACTIVE = {sqlite: rules.sql(rules.is_active(), sqlite=sqlite) for sqlite in (True, False)}


async def search_customers_json(raw: Raw, *, session: PresentedSession, search: str, paging: Paging) -> str:
    """SearchCustomer's Page[CustomerOut] as JSON text (`search` already trimmed and checked by the route)."""
    if raw.sqlite:
        items, total = await raw.in_one_hop(lambda db: _search_sqlite(db, session, search, paging))
    else:
        items, total = await _search_pg(raw, session, search, paging)
    return paging.page_json(items, total)


def _search_sqlite(db: SqliteInThread, session: PresentedSession, search: str, paging: Paging) -> tuple:
    session.check_in_thread(db)
    args: list = []
    match = _match_sql(search, args, sqlite=True)
    fields = _customer_fields_sql(rawdb.parameter(args, rawdb.WHITE_SPACE), sqlite=True)
    customer = rawdb.json_object_sql(fields, sqlite=True)
    # json_group_array takes the rows in the page's order.
    items = f"SELECT json_group_array({customer}) AS items, count(*) AS n FROM ({_page_sql(match, paging)}) AS p"
    found = db.record_of_aggregate(f"SELECT items, {_total_sql(match, paging)} AS total FROM ({items})", *args)
    return found["items"], found["total"]


async def _search_pg(raw: Raw, session: PresentedSession, search: str, paging: Paging) -> tuple:
    now = clock.now()
    args: list = []
    session_cte = session.cte(args, now)
    match = _match_sql(search, args, sqlite=False)
    fields = _customer_fields_sql(rawdb.parameter(args, rawdb.WHITE_SPACE), sqlite=False)
    # Each customer's JSON from a record of its fields (json_agg(r) costs less than json_build_object per row).
    record = rawdb.record_sql(fields)
    items = (f"SELECT coalesce(json_agg(r ORDER BY p.created_at DESC, p.id DESC), '[]')::text "
             f"FROM p CROSS JOIN LATERAL ({record}) AS r")
    total = f"SELECT {_total_sql(match, paging)} FROM (SELECT count(*) FROM p) AS k(n)"
    # The page and its Total are read only if the session is live (no row in `s`, no select list).
    found = await raw.fetchrow(f"WITH {session_cte}, p AS ({_page_sql(match, paging)}) SELECT {SESSION_COLUMNS}, "
                               f"({items}) AS items, ({total}) AS total FROM s", *args)
    if found is None:
        raise session_invalid()
    session.caller(found, now)
    return found["items"], found["total"]


def _match_sql(search: str, args: list, *, sqlite: bool) -> str:
    """search_customers' condition on the customer table, its patterns appended to `args`: a case-insensitive
    LIKE of name, phone number or e-mail address, or the digits typed matching the phone number; never an erased
    customer.

    The same matches as the ORM's ilike, cheaper: SQLite's LIKE already ignores ASCII case, the only case its
    lower() folds (lower() on both sides made the search 3-5x slower); a phone number is digits only (the WhatsApp
    ID), which have no case, so a plain LIKE matches it as ILIKE would (each ILIKE lowers pattern and value per
    row, ~0.4 us on PostgreSQL)."""
    pattern, digits = search_patterns(search)
    like = rawdb.parameter(args, pattern)
    def operator(column: str) -> str:
        return "LIKE" if sqlite or column == "phone_number" else "ILIKE"

    matches = [f"customer.{column} {operator(column)} {like} ESCAPE '\\'"
               for column in ("name", "phone_number", "email_address", "whatsapp_username")]
    if digits is not None:
        matches.append(f"customer.phone_number LIKE {rawdb.parameter(args, digits)}")
    return f"({' OR '.join(matches)}) AND customer.erased_at IS NULL"


def _page_sql(match: str, paging: Paging) -> str:
    """The page's customers, newest first (ix_customer_created_at_id), ties by ID."""
    return (f"SELECT customer.id, customer.name, customer.phone_number, customer.email_address, customer.created_at, "
            f"customer.whatsapp_username FROM customer WHERE {match} "
            f"ORDER BY customer.created_at DESC, customer.id DESC LIMIT {paging.page_size:d} OFFSET {paging.offset:d}")


def _total_sql(match: str, paging: Paging) -> str:
    """search_customers' Total, for `n` customers on the page: a page that is not full (or an empty first page)
    tells it; otherwise the matches are counted up to the cap (contract.COUNT_CAP)."""
    offset = paging.offset
    count = f"SELECT count(*) FROM (SELECT 1 FROM customer WHERE {match} LIMIT {paging.count_cap:d}) AS c"
    return (f"CASE WHEN (n > 0 AND n < {paging.page_size:d}) OR ({offset:d} = 0 AND n = 0) THEN {offset:d} + n "
            f"ELSE ({count}) END")


def _customer_fields_sql(white_space: str, *, sqlite: bool) -> list[tuple[str, str]]:
    """CustomerOut's fields (by alias) for a row `p` of the page, as SQL expressions; `white_space` is the
    parameter holding what to strip from texts. Comments oldest first; TagIDs those of the active chat."""
    def text(column: str) -> str:
        return f"{'trim' if sqlite else 'btrim'}({column}, {white_space})"

    comment = [("CommentID", "cm.id"), ("Text", text("cm.text")), ("AgentID", "cm.agent_id"),
               ("CreatedAt", rawdb.time_sql("cm.created_at", sqlite))]
    comments = "FROM comment AS cm WHERE cm.customer_id = p.id"
    tag_ids = (f"SELECT chat_tag.tag_id FROM chat JOIN chat_tag ON chat_tag.chat_id = chat.id "
               f"WHERE chat.customer_id = p.id AND {_ACTIVE[sqlite]} ORDER BY chat_tag.tag_id")
    comment_object = rawdb.json_object_sql(comment, sqlite)
    if sqlite:
        comments = f"json((SELECT json_group_array({comment_object}) FROM (SELECT * {comments} ORDER BY cm.id) AS cm))"
        tags = f"json((SELECT json_group_array(tag_id) FROM ({tag_ids})))"
    else:
        comments = f"(SELECT coalesce(json_agg({comment_object} ORDER BY cm.id), '[]') {comments})"
        tags = f"ARRAY({tag_ids})"
    return [("CustomerID", "p.id"), ("Name", text("p.name")), ("PhoneNumber", text("p.phone_number")),
            ("EmailAddress", text("p.email_address")), ("Comments", comments), ("TagIDs", tags),
            ("CreatedAt", rawdb.time_sql("p.created_at", sqlite)),
            ("WhatsAppUsername", text("p.whatsapp_username"))]




