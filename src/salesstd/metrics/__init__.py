"""Funnel metrics: conversion, time in stage, cycle time and flow."""

from __future__ import annotations
