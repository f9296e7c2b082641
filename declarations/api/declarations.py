"""API: annual CBAM declarations — drafting, groups with their trace, overrides and the review workflow."""

from __future__ import annotations

from decimal import ROUND_HALF_UP

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import include, path
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from cbam_portal.accounts.api import ImporterSerializer
from cbam_portal.accounts.api_base import TenantScopedViewSet
from cbam_portal.accounts.policy import Capability
from cbam_portal.core.actor import Actor

from ..models import Declaration, DeclarationComment, DeclarationGroup
from ..selectors import declarations as selectors
from ..services import declarations as services
from ..services.traces import declaration_group_traces

KINDS = ("declarant",)


def django_errors(exc: DjangoValidationError) -> ValidationError:
    if hasattr(exc, "error_dict"):
        return ValidationError(exc.message_dict)
    return ValidationError({"non_field_errors": exc.messages})


class DeclarationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Declaration
        fields = [
            "id", "year", "version", "status", "prepared_by", "submitted_for_review_by", "submitted_for_review_at",
            "approved_by", "approved_at", "filed_by", "filed_at", "supersedes", "computed_at", "computation_error",
            "quantity_tonnes", "embedded_t_co2e", "certificates", "cost_eur",
        ]  # fmt: skip
        read_only_fields = fields


class DeclarationCreateSerializer(serializers.Serializer):
    year = serializers.IntegerField(min_value=2026, max_value=2100)


class DeclarationGroupSerializer(serializers.ModelSerializer):
    # Plain strings ("actual"/"default"): the schema keeps one enum per name across the project.
    source = serializers.CharField(read_only=True)
    override_source = serializers.CharField(read_only=True)
    effective_source = serializers.CharField(read_only=True)
    #: The steps behind the numbers: stored once the declaration went to review, derived from the
    #: current inputs in a draft (``context["traces"]``, by group id, else worked out here).
    trace = serializers.SerializerMethodField()

    class Meta:
        model = DeclarationGroup
        fields = [
            "id", "cn_code", "country", "installation", "quarter", "source", "override_source", "override_reason",
            "effective_source", "report", "mass_tonnes", "returned_tonnes", "lines", "see_used", "embedded_t_co2e",
            "benchmark", "column", "route", "sefa", "faa", "carbon_price_deduction", "certificates", "price_eur",
            "cost_eur", "error", "trace", "datasets",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_trace(self, group) -> list[dict]:
        traces = self.context.get("traces")
        if traces is None:
            traces = declaration_group_traces(group.declaration, [group])
        return traces[group.pk]


class OverrideSerializer(serializers.Serializer):
    group = serializers.IntegerField()
    source = serializers.CharField(
        allow_blank=True, max_length=8, help_text="actual, default, or blank for the portal's choice"
    )
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class DeclarationDueSerializer(serializers.Serializer):
    """Where the declaration due next stands (the dashboard card's figures)."""

    year = serializers.IntegerField(help_text="Year of import whose declaration is due next.")
    due_on = serializers.DateField(help_text="File the declaration and surrender its certificates by this day.")
    days_left = serializers.IntegerField()
    declaration = DeclarationSerializer(allow_null=True, help_text="Its latest version; null before one is drafted.")
    groups = serializers.IntegerField(help_text="Goods groups of that version.")
    actual_groups = serializers.IntegerField(help_text="Groups whose emissions come from an operator's report.")
    embedded_t_co2e = serializers.DecimalField(max_digits=20, decimal_places=6)
    actual_t_co2e = serializers.DecimalField(
        max_digits=20, decimal_places=6, help_text="Embedded emissions from operators' reports."
    )
    actual_share_percent = serializers.DecimalField(
        max_digits=9, decimal_places=2, rounding=ROUND_HALF_UP, allow_null=True,
        help_text="actual_t_co2e as a share of embedded_t_co2e; null when nothing is embedded.",
    )  # fmt: skip
    unpriced_groups = serializers.IntegerField(help_text="Groups whose period has no published certificate price yet.")
    open_requests = serializers.IntegerField(help_text="That year's data requests to suppliers still waiting.")
    overdue_requests = serializers.IntegerField(help_text="Of those, the ones past their due date.")
    answered_requests = serializers.IntegerField(help_text="That year's data requests answered by sharing a report.")


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField()


class CommentSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeclarationComment
        fields = ["id", "author", "text", "at"]
        read_only_fields = ["id", "author", "at"]


class DeclarationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """Annual declarations of the organisation. Writes follow the four-eyes workflow:
    draft → in review → approved (not by its preparer or submitter) → filed → amended."""

    queryset = Declaration.objects.all()
    serializer_class = DeclarationSerializer
    required_kinds = KINDS
    action_capabilities = {
        "create": Capability.EDIT,
        "override": Capability.EDIT,
        "recompute": Capability.EDIT,
        "submit": Capability.EDIT,
        "return_to_draft": Capability.REVIEW,
        "approve": Capability.APPROVE,
        "file": Capability.SUBMIT,
        "amend": Capability.EDIT,
    }

    def capability_for(self, request) -> Capability:
        if getattr(self, "action", None) == "comments" and request.method == "POST":
            access = request.access
            return Capability.REVIEW if access.can(Capability.REVIEW) else Capability.EDIT
        return super().capability_for(request)

    def base_queryset(self):
        return Declaration.objects.all()

    def _run(self, service, **kwargs):
        declaration = self.get_object()
        try:
            result = service(actor=Actor.from_request(self.request), declaration=declaration, **kwargs)
        except DjangoValidationError as exc:
            raise django_errors(exc) from exc
        return result

    @extend_schema(request=DeclarationCreateSerializer, responses={201: DeclarationSerializer})
    def create(self, request):
        data = DeclarationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            declaration = services.declaration_create(
                actor=Actor.from_request(request),
                organisation=self.access.organisation,
                **data.validated_data,
            )
        except DjangoValidationError as exc:
            raise django_errors(exc) from exc
        return Response(DeclarationSerializer(declaration).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: DeclarationDueSerializer})
    @action(detail=False, methods=["get"])
    def due(self, request):
        """The declaration due next: the previous year's until its 30 September deadline, then the
        current year's; with its latest version's figures and the share resting on actual data."""
        overview = selectors.declaration_overview(self.access, timezone.localdate())
        return Response(DeclarationDueSerializer(overview).data)

    @extend_schema(responses={200: DeclarationGroupSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def groups(self, request, pk=None):
        declaration = self.get_object()
        groups = list(selectors.declaration_groups(declaration))
        traces = declaration_group_traces(declaration, groups)  # all at once, not group by group
        return Response(DeclarationGroupSerializer(groups, many=True, context={"traces": traces}).data)

    @extend_schema(request=OverrideSerializer, responses={200: DeclarationGroupSerializer})
    @action(detail=True, methods=["post"])
    def override(self, request, pk=None):
        data = OverrideSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        group = self._run(
            services.declaration_group_override,
            group_id=data.validated_data["group"],
            source=data.validated_data["source"],
            reason=data.validated_data["reason"],
        )
        return Response(DeclarationGroupSerializer(group).data)

    def _transition(self, service, **kwargs):
        result = self._run(service, **kwargs)
        return Response(DeclarationSerializer(result).data)

    @extend_schema(request=None, responses={202: None})
    @action(detail=True, methods=["post"])
    def recompute(self, request, pk=None):
        job = self._run(services.declaration_recompute_enqueue)
        return Response({"job": job.pk}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={200: DeclarationSerializer})
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._transition(services.declaration_submit_for_review)

    @extend_schema(request=ReasonSerializer, responses={200: DeclarationSerializer})
    @action(detail=True, methods=["post"], url_path="return")
    def return_to_draft(self, request, pk=None):
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._transition(services.declaration_return_to_draft, reason=data.validated_data["reason"])

    @extend_schema(request=None, responses={200: DeclarationSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._transition(services.declaration_approve)

    @extend_schema(request=None, responses={200: DeclarationSerializer})
    @action(detail=True, methods=["post"])
    def file(self, request, pk=None):
        return self._transition(services.declaration_file)

    @extend_schema(request=None, responses={201: DeclarationSerializer})
    @action(detail=True, methods=["post"])
    def amend(self, request, pk=None):
        amendment = self._run(services.declaration_amend)
        return Response(DeclarationSerializer(amendment).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=CommentSerializer, responses={200: CommentSerializer(many=True), 201: CommentSerializer}
    )
    @action(detail=True, methods=["get", "post"])
    def comments(self, request, pk=None):
        if request.method == "GET":
            declaration = self.get_object()
            return Response(CommentSerializer(selectors.declaration_comments(declaration), many=True).data)
        data = CommentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        comment = self._run(services.declaration_comment_add, text=data.validated_data["text"])
        return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)


class RepresentedDeclarationDueSerializer(DeclarationDueSerializer):
    importer = ImporterSerializer(source="organisation")


class RepresentedDeclarationsViewSet(TenantScopedViewSet):
    """For a customs representative: the declaration due next of every importer it acts for."""

    queryset = Declaration.objects.none()
    required_kinds = ("representative",)
    pagination_class = None
    filter_backends: list = []
    serializer_class = RepresentedDeclarationDueSerializer

    @extend_schema(responses=RepresentedDeclarationDueSerializer(many=True), summary="Declarations due of represented importers")
    def list(self, request):
        overviews = selectors.represented_declarations_due(self.access, timezone.localdate())
        return Response(RepresentedDeclarationDueSerializer(overviews, many=True).data)


router = SimpleRouter()
router.register("declarations", DeclarationViewSet, basename="declaration")

urlpatterns = [
    path(
        "represented-declarations/",
        RepresentedDeclarationsViewSet.as_view({"get": "list"}),
        name="represented-declarations",
    ),
    path("", include(router.urls)),
]
