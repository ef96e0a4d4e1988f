"""The test site serves no pages."""

urlpatterns: list[object] = []
