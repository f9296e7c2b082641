from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("datasets", api.DatasetViewSet, basename="reference-dataset")
router.register("cn-goods", api.CnGoodViewSet, basename="reference-cn-good")
router.register("default-values", api.DefaultValueViewSet, basename="reference-default-value")
router.register("benchmarks", api.BenchmarkViewSet, basename="reference-benchmark")
router.register("countries", api.CountryViewSet, basename="reference-country")
router.register("cbam-factors", api.CbamFactorViewSet, basename="reference-cbam-factor")
router.register("cscf", api.CscfViewSet, basename="reference-cscf")
router.register("certificate-prices", api.CertificatePriceViewSet, basename="reference-certificate-price")

urlpatterns = router.urls
