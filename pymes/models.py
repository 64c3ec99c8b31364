"""Every model, imported once so that the metadata (and Alembic) sees all tables."""
from .accounts.models import Business, Invitation, RecoveryCode, Token, User, UserSession  # noqa: F401
from .audit.models import AuditEvent  # noqa: F401
from .billing.models import StripeEvent, StripeSubscription, Subscription  # noqa: F401
from .clients.models import Client, ClientImport, ClientOpening, ClientSpecialist, LoyaltySettings, TierChange  # noqa: F401
from .complaints.models import Complaint, ComplaintEvent, ComplaintSettings  # noqa: F401
from .feedback.models import FeedbackLink, FeedbackResponse, FeedbackSettings  # noqa: F401
from .notifications.models import Notification  # noqa: F401
from .radar.models import RadarLog  # noqa: F401
from .referrals.models import Referral, ReferralAsk, ReferralCode, ReferralSettings, Testimonial  # noqa: F401
from .sales.models import Sale  # noqa: F401
from .territories.models import Portfolio, PortfolioSeller, Territory, TerritorySeller  # noqa: F401
from .visits.models import Activity, DigestLog, FollowUpSettings  # noqa: F401
from .whatsapp.models import WhatsappConnection  # noqa: F401
