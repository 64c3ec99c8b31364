"""Referral codes and wall keys (issue 20, finding 10; TOK-1): they were 72 bits and
stored in plain text. A new code or key has 256 bits; the database keeps only its
SHA-256 (what public look-ups compare) and a sealed copy (AES-GCM under a key from
SECRET_KEY) that the app opens to show it again, because a code printed on a QR code and
a wall's embed code must be shown again: a hash alone could not. Codes printed before
keep working after the migration."""
import re

from sqlalchemy import text

from pymes import create_app
from pymes.extensions import db
from pymes.referrals import services
from pymes.tenancy import bound

from ..factories import csrf_token, login

SECRET_KEY = "test-secret-key-with-enough-length-0123456789"


def _all_text(engine, table) -> str:
    with engine.connect() as conn:
        return " ".join(str(v) for row in conn.execute(text(f"SELECT * FROM {table}")).all() for v in row)


def test_tok1_a_new_code_has_256_bits_and_only_its_hash_and_sealed_copy_are_stored(app, make, database):
    _url, owner = database
    business, _owner, _manager, seller = make.team()
    ana_id = make.client(business, "Ana Soto", seller_id=seller.id).id
    with app.app_context(), bound(business.id):
        key = services.referral_settings().wall_key
    http = app.test_client()
    login(http, seller.email)
    path = f"/clients/{ana_id}/referral-link"
    page = http.post(path, data={"csrf_token": csrf_token(http, path)}).get_data(as_text=True)
    code = re.search(r'value="[^"]+/r/([^"]+)"', page).group(1)
    assert len(code) >= 43 and len(key) >= 43  # 32 random bytes, URL-safe
    assert code in http.get(path).get_data(as_text=True)  # shown again, the same
    stored = _all_text(owner, "referral_codes") + _all_text(owner, "referral_settings")
    assert code not in stored and key not in stored
    assert app.test_client().get(f"/r/{code}").status_code == 200
    assert app.test_client().get(f"/w/{key}").status_code == 200


def test_tok1_codes_printed_before_the_migration_keep_working(tmp_path):
    from flask_migrate import upgrade

    url = f"sqlite:///{tmp_path / 'codes.sqlite3'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "SECRET_KEY": SECRET_KEY})
    with app.app_context():
        upgrade(revision="0021c")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO businesses (id, name, country, currency, timezone, language, "
                              "sellers_see_only_own, created_at, updated_at) VALUES (1, 'B', 'CL', 'CLP', "
                              "'America/Santiago', 'es', 0, '2026-01-01', '2026-01-01')"))
            conn.execute(text("INSERT INTO clients (id, tenant_id, kind, name, company, tax_id, address, notes, "
                              "is_key, tier_override_reason, sales_count, revenue_12m, created_at, updated_at) "
                              "VALUES (7, 1, 'client', 'Ana', '', '', '', '', 0, '', 0, 0, '2026-01-01', "
                              "'2026-01-01')"))
            conn.execute(text("INSERT INTO referral_codes (tenant_id, client_id, code, created_at) "
                              "VALUES (1, 7, 'OldCode72bit', '2026-01-01')"))
            conn.execute(text("INSERT INTO referral_settings (tenant_id, wall_key, reward_kind) "
                              "VALUES (1, 'old-wall-key-printed-in-an-embed', 'none')"))
        upgrade()
        assert services.owner_of_code("OldCode72bit") == (1, 7)
        assert services.tenant_for_wall_key("old-wall-key-printed-in-an-embed") == 1
        stored = _all_text(db.engine, "referral_codes") + _all_text(db.engine, "referral_settings")
        assert "OldCode72bit" not in stored and "old-wall-key" not in stored
        with bound(1):
            from pymes.referrals.models import ReferralCode

            assert db.session.execute(db.select(ReferralCode)).scalar_one().code == "OldCode72bit"  # shown again
        db.session.remove()
        db.engine.dispose()


def test_a_code_sealed_under_a_lost_secret_key_is_offered_again_not_a_500(app, make):
    """SECRET_KEY changed without SECRET_KEY_FALLBACKS: the stored copy no longer opens.
    The client's page offers to make a link (a new code) instead of failing; the wall's
    page still opens (a new key is one click on "new address")."""
    business, owner, _manager, seller = make.team()
    ana_id = make.client(business, "Ana Soto", seller_id=seller.id).id
    with app.app_context(), bound(business.id):
        services.referral_settings()
    http = app.test_client()
    login(http, owner.email)
    path = f"/clients/{ana_id}/referral-link"
    first = re.search(r'/r/([^"]+)"', http.post(path, data={"csrf_token": csrf_token(http, path)})
                      .get_data(as_text=True)).group(1)
    app.config["SECRET_KEY"] = "another-secret-key-with-enough-length-98765"
    http = app.test_client()
    login(http, owner.email)
    page = http.get(path)
    assert page.status_code == 200 and "/r/" not in page.get_data(as_text=True)
    assert http.get("/testimonials").status_code == 200
    second = re.search(r'/r/([^"]+)"', http.post(path, data={"csrf_token": csrf_token(http, path)})
                       .get_data(as_text=True)).group(1)
    assert second != first and app.test_client().get(f"/r/{second}").status_code == 200
