"""A business with at least one row in every table it can own, for the data tests."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from pymes.accounts.models import Business, Invitation, RecoveryCode, Token, UserSession
from pymes.audit.models import AuditEvent
from pymes.billing.models import StripeEvent, StripeSubscription, Subscription
from pymes.clients.models import Client, ClientImport, ClientOpening, ClientSpecialist, LoyaltySettings, TierChange
from pymes.complaints.models import Complaint, ComplaintEvent, ComplaintSettings
from pymes.db import utcnow
from pymes.extensions import db
from pymes.feedback.models import FeedbackLink, FeedbackResponse, FeedbackSettings
from pymes.notifications.models import Notification
from pymes.radar.models import RadarLog
from pymes.referrals.models import Referral, ReferralAsk, ReferralCode, ReferralSettings, Testimonial
from pymes.sales.models import Sale
from pymes.tenancy import bound
from pymes.territories.models import Portfolio, PortfolioSeller, Territory, TerritorySeller
from pymes.visits.models import Activity, DigestLog, FollowUpSettings
from pymes.whatsapp.models import WhatsappConnection, WhatsappMessage, WhatsappTemplate
from tests.factories import santiago_today

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


def filled_business(app, make, tag: str):
    """(business, owner, seller): ``tag`` is written into the client names and e-mails
    so that a row of this business is recognisable anywhere (the canary)."""
    business = make.business(f"Negocio {tag}")
    owner = make.user(business, "owner", email=f"owner-{tag.lower()}@example.com")
    seller = make.user(business, "seller", email=f"seller-{tag.lower()}@example.com")
    now = utcnow()
    with app.app_context(), bound(business.id):
        b = db.session.get(Business, business.id)
        b.logo, b.logo_mime = PNG, "image/png"
        territory, portfolio = Territory(name=f"Zona {tag}"), Portfolio(name=f"Cartera {tag}")
        db.session.add_all([territory, portfolio])
        db.session.flush()
        client = Client(name=f"Cliente {tag}", email=f"client-{tag.lower()}@example.com", seller_id=seller.id,
                        territory_id=territory.id, portfolio_id=portfolio.id, notes="=HYPERLINK(\"http://x\")")
        friend = Client(name=f"Amigo {tag}", kind="prospect")
        db.session.add_all([client, friend])
        db.session.flush()
        sale = Sale(client_id=client.id, seller_id=seller.id, sold_on=date(2026, 1, 5), description=f"Venta {tag}",
                    amount=150000)
        link = FeedbackLink(client_id=client.id, expires_at=now + timedelta(days=7))
        complaint = Complaint(client_id=client.id, opened_at=now, ack_due_at=now, resolve_due_at=now)
        db.session.add_all([sale, link, complaint])
        db.session.flush()
        response = FeedbackResponse(link_id=link.id, client_id=client.id, score=9, comment=f"Bien {tag}")
        db.session.add(response)
        db.session.add_all([
            TerritorySeller(territory_id=territory.id, user_id=seller.id),
            PortfolioSeller(portfolio_id=portfolio.id, user_id=seller.id),
            Invitation(email=f"invitee-{tag.lower()}@example.com", role="seller", invited_by_id=owner.id,
                       expires_at=now + timedelta(days=7)),
            Token(token_hash=f"secret-token-hash-{tag}", purpose="reset", tenant_id=business.id,
                  subject_id=owner.id, expires_at=now + timedelta(hours=1)),
            UserSession(user_id=owner.id, key_hash=f"secret-session-hash-{tag}", expires_at=now + timedelta(days=1)),
            RecoveryCode(user_id=owner.id, code_hash=f"secret-recovery-hash-{tag}"),
            AuditEvent(action="login", actor_id=owner.id, actor_name=owner.name, subject=f"owner-{tag.lower()}@example.com",
                       ip="10.9.8.7", device="Firefox · Linux"),
            Notification(user_id=owner.id, kind="test", params={"tag": tag}),
            Activity(client_id=client.id, seller_id=seller.id, kind="call", purpose="follow_up", due_on=santiago_today()),
            DigestLog(user_id=seller.id, day=santiago_today(), sent_at=now),
            RadarLog(user_id=owner.id, week_of=santiago_today(), sent_at=now),
            ClientSpecialist(client_id=client.id, user_id=seller.id, product_line="Herramientas"),
            TierChange(client_id=client.id, source="computed", new_tier="buyer"),
            ClientImport(created_by_id=owner.id, file_name=f"{tag}.csv", status="preview"),
            LoyaltySettings(), FollowUpSettings(), FeedbackSettings(), ComplaintSettings(),
            ReferralSettings(wall_key=f"secret-wall-key-{tag}"),
            Referral(referrer_id=client.id, prospect_id=friend.id, name=f"Amigo {tag}", phone="+56912345678"),
            ReferralCode(client_id=client.id, code=f"code{tag.lower()}", created_at=now),
            Testimonial(client_id=client.id, text=f"Muy bien {tag}", consent_at=now),
            Subscription(stripe_customer_id=f"cus_{tag}", checkout_url=f"https://checkout.stripe.test/{tag}"),
            StripeEvent(event_id=f"evt_{tag}", type="customer.subscription.updated"),
            StripeSubscription(subscription_id=f"sub_{tag}", status="active", started_at=now, state_at=now),
            WhatsappConnection(phone_number_id="106540352242922", business_account_id="102290129340398",
                               token_sealed=f"v1:secret-whatsapp-token-{tag}", verified_name=f"WhatsApp {tag}",
                               feedback_template="pedido_opinion", template_language="es"),
        ])
        db.session.flush()
        db.session.add(ComplaintEvent(complaint_id=complaint.id, kind="opened", created_at=now))
        db.session.add_all([
            WhatsappTemplate(purpose="complaint_ack", name=f"reclamo_{tag.lower()}", language="es"),
            WhatsappMessage(client_id=client.id, direction="in", wamid=f"wamid.{tag}", phone="+56961234567",
                            body=f"Hola {tag}", status="received", status_at=now),
        ])
        visit = db.session.execute(select(Activity).where(Activity.client_id == client.id)).scalars().first()
        db.session.add_all([
            ClientOpening(client_id=client.id, purchases=3, period="ever", last_purchase_on=date(2026, 1, 5)),
            ReferralAsk(activity_id=visit.id, client_id=client.id, asked_by_id=seller.id),
        ])
        db.session.commit()
    return business, owner, seller
